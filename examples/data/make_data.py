"""Writes the small CSV tables the example configurations train on (committed; rerun to regenerate).

linear.csv: y = 3 x1 - 2 x2 + 0.5 x3 + 4 + noise(0.1): linear regression should recover the weights.
exams.csv: pass/fail from hours studied and slept, logistic in the two (string labels).
"""
import csv
import math
import random

rng = random.Random(7)

with open("linear.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["x1", "x2", "x3", "y"])
    for _ in range(400):
        x = [rng.uniform(-2, 2) for _ in range(3)]
        y = 3 * x[0] - 2 * x[1] + 0.5 * x[2] + 4 + rng.gauss(0, 0.1)
        w.writerow([f"{v:.5f}" for v in x] + [f"{y:.5f}"])

with open("exams.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["hours_studied", "hours_slept", "result"])
    for _ in range(300):
        study = rng.uniform(0, 10)
        sleep = rng.uniform(3, 10)
        p = 1 / (1 + math.exp(-(1.2 * study + 0.8 * sleep - 11)))
        w.writerow([f"{study:.2f}", f"{sleep:.2f}", "pass" if rng.random() < p else "fail"])
