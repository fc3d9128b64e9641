#!/usr/bin/python3
"""Generate the PyTorch reference trajectories that tests/optim/*_reference_test.cpp compare against.

Run from the repository root with Debian's Python, which has torch 1.13 (the ``python3`` on PATH
does not):

    /usr/bin/python3 tools/gen_reference_optim.py

It writes tests/reference/optim.json (committed). Nothing is downloaded and nothing is random at run
time: the starting points and data come from torch.Generators with fixed seeds, everything runs in
float64 on one thread, and floats are written with repr (exact round trip).

File layout:

    {"format": 1, "generator": ..., "torch_version": ...,
     "problems": {"rosenbrock": {"params": [{"shape", "values"}]},
                  "mlp": {"params": [W1, b1, W2, b2], "x": {...}, "target": {...}}},
     "optimizers": [  one per line
       {"name", "optimizer": "SGD" | ..., "problem": "rosenbrock" | "mlp", "loss_sign": 1 or -1,
        "options": {PyTorch keyword arguments; betas as [b1, b2]},
        "groups": null or [{"params": [indices into the problem's params], "options": {...}}],
        "steps": 100, "record": [step numbers], "trajectory": [[all params flattened, after step k]]}],
     "lbfgs": [
       {"name", "problem", "options", "calls": 5,
        "losses": [loss returned by each step(closure)], "params": [[params after each call]],
        "func_evals": [...], "n_iter": [...]}],
     "schedules": [
       {"name", "optimizer": "SGD" | "Adam", "group_lrs": [lr of each group], "optimizer_options": {...},
        "schedule": {"type", "options"} or, for SequentialLR, {"type": "SequentialLR",
                     "schedules": [{"type", "options"}, ...], "milestones": [...]},
        "metrics": [ReduceLROnPlateau's metric per step] (only for it),
        "lrs": [[lr of each group] per step], "momenta": [[momentum or beta1 of each group] per step] or null}]}

Problems: (a) Rosenbrock's function of one 2-element parameter, f = (1 - x)^2 + 100 (y - x^2)^2,
from (-1.5, 2); (b) a 3-4-2 network with a tanh hidden layer, y = tanh(x W1 + b1) W2 + b2, on a fixed
batch of 8 with the mean squared error. "loss_sign": -1 marks the maximize variants, which minimize
f by maximizing -f. Each optimizer case runs 100 steps of zero_grad / loss.backward / step and
records the parameters after the steps in "record".

Every optimizer and L-BFGS case is checked for conditioning before it is written: rerun from a start
moved by 1e-12 (relative), its recorded values must move by less than a tenth of the C++ tests'
tolerance (and L-BFGS's evaluation counts not at all); otherwise the script stops. Rosenbrock's valley
amplifies rounding differences enormously for some settings (fixed-step L-BFGS with lr = 1 and 20
iterations per call is chaotic there), and such a case would test the rounding, not the algorithm.

LBFGS cases call step(closure) 5 times; schedule cases record get_last_lr() after construction and
after each of 99 steps (100 values; ReduceLROnPlateau: after each of 100 step(metric) calls).
"""

import json
import math
import os
import sys

import torch

OUT_PATH = os.path.join("tests", "reference", "optim.json")
DT = torch.float64
RECORD = [1, 2, 3, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]


def values(t):
    vals = [float(v) for v in t.detach().reshape(-1).tolist()]
    for v in vals:
        if not math.isfinite(v):
            raise ValueError("non-finite value in a fixture")
    return vals


def spec(t):
    return {"shape": list(t.shape), "values": values(t)}


# --- problems -------------------------------------------------------------------------------------

def make_problems():
    g = torch.Generator()
    g.manual_seed(20240611)
    mlp = {
        "params": [torch.randn(3, 4, generator=g, dtype=DT) * 0.5, torch.randn(4, generator=g, dtype=DT) * 0.1,
                   torch.randn(4, 2, generator=g, dtype=DT) * 0.5, torch.randn(2, generator=g, dtype=DT) * 0.1],
        "x": torch.randn(8, 3, generator=g, dtype=DT),
        "target": torch.randn(8, 2, generator=g, dtype=DT) * 0.5,
    }
    rosenbrock = {"params": [torch.tensor([-1.5, 2.0], dtype=DT)]}
    return {"rosenbrock": rosenbrock, "mlp": mlp}


def loss_fn(problem_name, problem, params):
    if problem_name == "rosenbrock":
        (p,) = params
        return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
    w1, b1, w2, b2 = params
    h = torch.tanh(problem["x"] @ w1 + b1)
    y = h @ w2 + b2
    return ((y - problem["target"]) ** 2).mean()


def fresh_params(problem, perturb=0.0):
    return [(p * (1 + perturb)).requires_grad_(True) for p in problem["params"]]


# Every case must be well conditioned: a 1e-12 relative change of the starting point (thousands of
# ulps) may move the recorded values by at most 10% of the tests' tolerance (1e-6 relative + 1e-9
# absolute), so that rounding differences between the libraries (an ulp or so per operation) cannot
# grow past it. (Rosenbrock's valley amplifies small differences a great deal for some settings.)
PERTURB = 1e-12


def check_conditioning(name, a, b):
    worst = 0.0
    for row_a, row_b in zip(a, b):
        for x, y in zip(row_a, row_b):
            worst = max(worst, abs(x - y) / (1e-6 * abs(x) + 1e-9))
    if worst > 0.1:
        raise SystemExit(f"case {name} is ill-conditioned: a {PERTURB} change of the start moves it by "
                         f"{worst:.3g} of the tolerance")
    return worst


def torch_options(options):
    out = dict(options)
    if "betas" in out:
        out["betas"] = tuple(out["betas"])
    return out


# --- optimizers -----------------------------------------------------------------------------------

# (optimizer, variant name, options, lr per problem (or None: the default), loss_sign)
VARIANTS = [
    ("SGD", "plain", {}, {"rosenbrock": 1e-4, "mlp": 0.1}, 1),
    ("SGD", "momentum", {"momentum": 0.9}, {"rosenbrock": 1e-4, "mlp": 0.1}, 1),
    ("SGD", "nesterov", {"momentum": 0.9, "nesterov": True}, {"rosenbrock": 1e-4, "mlp": 0.1}, 1),
    ("SGD", "dampening_wd", {"momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01},
     {"rosenbrock": 1e-4, "mlp": 0.1}, 1),
    ("SGD", "maximize", {"momentum": 0.5, "maximize": True}, {"rosenbrock": 1e-4, "mlp": 0.1}, -1),
    ("Adagrad", "default", {}, None, 1),
    ("Adagrad", "lr_decay", {"lr": 0.1, "lr_decay": 0.01}, None, 1),
    ("Adagrad", "wd_init_acc", {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.1, "eps": 1e-8},
     None, 1),
    ("Adagrad", "maximize", {"lr": 0.1, "maximize": True}, None, -1),
    ("Adadelta", "default", {}, None, 1),
    ("Adadelta", "rho_eps_wd", {"lr": 0.5, "rho": 0.95, "eps": 1e-5, "weight_decay": 0.01}, None, 1),
    ("Adadelta", "maximize", {"maximize": True}, None, -1),
    ("RMSprop", "default", {}, None, 1),
    ("RMSprop", "centered", {"centered": True}, None, 1),
    ("RMSprop", "momentum", {"lr": 1e-3, "momentum": 0.9}, None, 1),
    ("RMSprop", "centered_momentum_wd", {"lr": 1e-3, "alpha": 0.9, "centered": True, "momentum": 0.5,
                                         "weight_decay": 0.01}, None, 1),
    ("RMSprop", "maximize", {"maximize": True}, None, -1),
    ("Adam", "lr", {"lr": 0.01}, None, 1),
    ("Adam", "amsgrad", {"lr": 0.01, "amsgrad": True}, None, 1),
    ("Adam", "betas_wd", {"lr": 0.01, "betas": [0.8, 0.99], "weight_decay": 0.1, "eps": 1e-6}, None, 1),
    ("Adam", "maximize", {"lr": 0.01, "maximize": True}, None, -1),
    ("AdamW", "default", {"lr": 0.01}, None, 1),
    ("AdamW", "amsgrad_wd", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}, None, 1),
    ("AdamW", "maximize", {"lr": 0.01, "maximize": True}, None, -1),
    ("Adamax", "default", {}, None, 1),
    ("Adamax", "lr_wd", {"lr": 0.01, "weight_decay": 0.1, "betas": [0.85, 0.995]}, None, 1),
    ("Adamax", "maximize", {"lr": 0.01, "maximize": True}, None, -1),
    ("NAdam", "default", {}, None, 1),
    ("NAdam", "lr_wd_decay", {"lr": 0.01, "weight_decay": 0.1, "momentum_decay": 0.01}, None, 1),
]

# Parameter groups (the network only): indices into [W1, b1, W2, b2].
GROUP_CASES = [
    ("SGD", "groups", {"lr": 0.1, "momentum": 0.9},
     [{"params": [0, 2], "options": {}}, {"params": [1, 3], "options": {"lr": 0.05, "momentum": 0.5}}]),
    ("Adam", "groups", {"lr": 0.01},
     [{"params": [0, 2], "options": {"weight_decay": 0.1}}, {"params": [1, 3], "options": {"amsgrad": True}}]),
    ("RMSprop", "groups", {"lr": 0.01},
     [{"params": [0], "options": {"centered": True}}, {"params": [1, 2, 3], "options": {"momentum": 0.5, "lr": 0.002}}]),
]


def run_optimizer(name, problem_name, problem, options, groups, loss_sign, steps=100, perturb=0.0):
    params = fresh_params(problem, perturb)
    cls = getattr(torch.optim, name)
    if groups is None:
        opt = cls(params, **torch_options(options))
    else:
        opt = cls([{"params": [params[i] for i in g["params"]], **torch_options(g["options"])} for g in groups],
                  **torch_options(options))
    trajectory = []
    for k in range(1, steps + 1):
        opt.zero_grad()
        loss = loss_sign * loss_fn(problem_name, problem, params)
        loss.backward()
        opt.step()
        if k in RECORD:
            trajectory.append([v for p in params for v in values(p)])
    return trajectory


def optimizer_cases(problems):
    cases = []
    for name, variant, options, lrs, sign in VARIANTS:
        for problem_name in ("rosenbrock", "mlp"):
            opts = dict(options)
            if lrs is not None:
                opts["lr"] = lrs[problem_name]
            traj = run_optimizer(name, problem_name, problems[problem_name], opts, None, sign)
            check_conditioning(f"{name}_{variant}_{problem_name}", traj,
                               run_optimizer(name, problem_name, problems[problem_name], opts, None, sign,
                                             perturb=PERTURB))
            cases.append({"name": f"{name}_{variant}_{problem_name}", "optimizer": name, "problem": problem_name,
                          "loss_sign": sign, "options": opts, "groups": None, "steps": 100, "record": RECORD,
                          "trajectory": traj})
    for name, variant, options, groups in GROUP_CASES:
        traj = run_optimizer(name, "mlp", problems["mlp"], options, groups, 1)
        check_conditioning(f"{name}_{variant}_mlp", traj,
                           run_optimizer(name, "mlp", problems["mlp"], options, groups, 1, perturb=PERTURB))
        cases.append({"name": f"{name}_{variant}_mlp", "optimizer": name, "problem": "mlp", "loss_sign": 1,
                      "options": options, "groups": groups, "steps": 100, "record": RECORD, "trajectory": traj})
    return cases


# --- L-BFGS ---------------------------------------------------------------------------------------

LBFGS_CASES = [
    # (fixed-step L-BFGS with lr = 1 and 20 iterations per call is chaotic on Rosenbrock's valley:
    # PyTorch itself moves by 1e-3 after 5 calls when the start moves by 1e-13)
    ("default_5_iter", "rosenbrock", {"max_iter": 5}),
    ("lr", "rosenbrock", {"lr": 0.8}),
    ("small_lr_history", "rosenbrock", {"lr": 0.5, "max_iter": 5, "history_size": 3}),
    ("strong_wolfe", "rosenbrock", {"line_search_fn": "strong_wolfe"}),
    ("strong_wolfe_history", "rosenbrock", {"line_search_fn": "strong_wolfe", "history_size": 4, "max_iter": 6}),
    ("default", "mlp", {"lr": 0.5, "max_iter": 10}),
    ("strong_wolfe", "mlp", {"line_search_fn": "strong_wolfe", "max_iter": 6, "history_size": 5}),
]


def run_lbfgs(problem_name, problem, options, perturb=0.0):
    params = fresh_params(problem, perturb)
    opt = torch.optim.LBFGS(params, **options)

    def closure():
        opt.zero_grad()
        loss = loss_fn(problem_name, problem, params)
        loss.backward()
        return loss

    losses, traj, evals, iters = [], [], [], []
    for _ in range(5):
        losses.append(float(opt.step(closure)))
        traj.append([v for p in params for v in values(p)])
        state = opt.state[params[0]]
        evals.append(int(state["func_evals"]))
        iters.append(int(state["n_iter"]))
    return losses, traj, evals, iters


def lbfgs_cases(problems):
    cases = []
    for variant, problem_name, options in LBFGS_CASES:
        problem = problems[problem_name]
        losses, traj, evals, iters = run_lbfgs(problem_name, problem, options)
        _, traj2, evals2, iters2 = run_lbfgs(problem_name, problem, options, PERTURB)
        check_conditioning(f"LBFGS_{variant}_{problem_name}", traj, traj2)
        assert (evals, iters) == (evals2, iters2), f"LBFGS_{variant}_{problem_name}: iteration counts are fragile"
        cases.append({"name": f"LBFGS_{variant}_{problem_name}", "problem": problem_name, "options": options,
                      "calls": 5, "losses": losses, "params": traj, "func_evals": evals, "n_iter": iters})
    return cases


# --- schedules ------------------------------------------------------------------------------------

def make_schedule(opt, s):
    cls = getattr(torch.optim.lr_scheduler, s["type"])
    return cls(opt, **s["options"])


def plateau_metrics():
    # falls, then plateaus with small wiggles, falls again, plateaus again
    out = []
    for k in range(100):
        if k < 25:
            m = 1.0 / (1 + 0.2 * k)
        elif k < 60:
            m = 1.0 / 6 + 0.002 * ((k * 7) % 5)
        elif k < 70:
            m = 1.0 / 6 - 0.01 * (k - 59)
        else:
            m = 0.066 + 0.0005 * ((k * 3) % 4)
        out.append(m)
    return out


SCHEDULE_CASES = [
    ("StepLR", {"type": "StepLR", "options": {"step_size": 10, "gamma": 0.5}}),
    ("StepLR_7", {"type": "StepLR", "options": {"step_size": 7, "gamma": 0.9}}),
    ("MultiStepLR", {"type": "MultiStepLR", "options": {"milestones": [10, 30, 30, 60], "gamma": 0.5}}),
    ("ExponentialLR", {"type": "ExponentialLR", "options": {"gamma": 0.97}}),
    ("CosineAnnealingLR_periodic", {"type": "CosineAnnealingLR", "options": {"T_max": 30, "eta_min": 0.001}}),
    ("CosineAnnealingLR_full", {"type": "CosineAnnealingLR", "options": {"T_max": 100}}),
    ("LinearLR_warmup", {"type": "LinearLR", "options": {"start_factor": 0.25, "total_iters": 10}}),
    ("LinearLR_decay", {"type": "LinearLR", "options": {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 50}}),
    ("LinearLR_default", {"type": "LinearLR", "options": {}}),
    ("OneCycleLR_cos", {"type": "OneCycleLR", "options": {"max_lr": 1.0, "total_steps": 100}}),
    ("OneCycleLR_linear", {"type": "OneCycleLR",
                           "options": {"max_lr": [1.0, 0.5], "total_steps": 100, "anneal_strategy": "linear",
                                       "pct_start": 0.25}}),
    ("OneCycleLR_three_phase", {"type": "OneCycleLR",
                                "options": {"max_lr": 0.8, "epochs": 10, "steps_per_epoch": 10, "three_phase": True,
                                            "base_momentum": 0.8, "max_momentum": 0.9, "div_factor": 10.0,
                                            "final_div_factor": 100.0}}),
    ("OneCycleLR_no_momentum", {"type": "OneCycleLR",
                                "options": {"max_lr": 0.5, "total_steps": 120, "cycle_momentum": False}}),
    ("SequentialLR_linear_cosine", {"type": "SequentialLR", "milestones": [10],
                                    "schedules": [{"type": "LinearLR", "options": {"start_factor": 0.1,
                                                                                    "total_iters": 10}},
                                                  {"type": "CosineAnnealingLR", "options": {"T_max": 90}}]}),
    ("SequentialLR_linear_exponential", {"type": "SequentialLR", "milestones": [5],
                                         "schedules": [{"type": "LinearLR", "options": {"start_factor": 0.5,
                                                                                         "total_iters": 5}},
                                                       {"type": "ExponentialLR", "options": {"gamma": 0.95}}]}),
    ("SequentialLR_three", {"type": "SequentialLR", "milestones": [20, 50],
                            "schedules": [{"type": "StepLR", "options": {"step_size": 5, "gamma": 0.8}},
                                          {"type": "MultiStepLR", "options": {"milestones": [10, 20], "gamma": 0.5}},
                                          {"type": "ExponentialLR", "options": {"gamma": 0.9}}]}),
    ("ReduceLROnPlateau_default", {"type": "ReduceLROnPlateau", "options": {"patience": 5}}),
    ("ReduceLROnPlateau_abs_cooldown", {"type": "ReduceLROnPlateau",
                                        "options": {"threshold_mode": "abs", "threshold": 0.01, "cooldown": 3,
                                                    "patience": 2, "factor": 0.5}}),
    ("ReduceLROnPlateau_max", {"type": "ReduceLROnPlateau",
                               "options": {"mode": "max", "patience": 3, "factor": 0.3, "min_lr": [0.01, 0.001]}}),
    ("ReduceLROnPlateau_min_lr_eps", {"type": "ReduceLROnPlateau",
                                      "options": {"patience": 1, "factor": 0.2, "min_lr": 0.004, "eps": 1e-3}}),
]


def schedule_cases():
    cases = []
    metrics = plateau_metrics()
    for name, sched in SCHEDULE_CASES:
        for opt_name in ("SGD", "Adam"):
            # Adam only where its betas matter (OneCycleLR's beta1 cycling)
            if opt_name == "Adam" and not name.startswith("OneCycleLR"):
                continue
            group_lrs = [0.1, 0.05]
            params = [torch.zeros(2, dtype=DT, requires_grad=True), torch.zeros(3, dtype=DT, requires_grad=True)]
            opt_options = {"momentum": 0.9} if opt_name == "SGD" else {"betas": [0.9, 0.999]}
            opt = getattr(torch.optim, opt_name)([{"params": [p], "lr": lr} for p, lr in zip(params, group_lrs)],
                                                 **torch_options(opt_options))
            if sched["type"] == "SequentialLR":
                subs = [make_schedule(opt, s) for s in sched["schedules"]]
                s = torch.optim.lr_scheduler.SequentialLR(opt, subs, milestones=sched["milestones"])
            else:
                s = make_schedule(opt, sched)
            lrs, momenta = [], []
            plateau = sched["type"] == "ReduceLROnPlateau"
            cycle = sched["type"] == "OneCycleLR"

            def momentum():
                if opt_name == "SGD":
                    return [g["momentum"] for g in opt.param_groups]
                return [g["betas"][0] for g in opt.param_groups]

            if plateau:
                for m in metrics:
                    opt.step()
                    s.step(m)
                    lrs.append(list(s._last_lr))
            else:
                lrs.append(list(s.get_last_lr()))
                momenta.append(momentum())
                for _ in range(99):
                    opt.step()
                    s.step()
                    lrs.append(list(s.get_last_lr()))
                    momenta.append(momentum())
            for row in lrs:
                for v in row:
                    assert math.isfinite(v)
            case = {"name": name if opt_name == "SGD" else name + "_Adam", "optimizer": opt_name,
                    "group_lrs": group_lrs, "optimizer_options": opt_options, "schedule": sched, "lrs": lrs,
                    "momenta": momenta if cycle else None}
            if plateau:
                case["metrics"] = metrics
            cases.append(case)
    return cases


def main():
    torch.set_num_threads(1)
    if not os.path.isdir(os.path.join("tests", "reference")):
        sys.exit("run from the repository root: /usr/bin/python3 tools/gen_reference_optim.py")
    problems = make_problems()
    opt = optimizer_cases(problems)
    lb = lbfgs_cases(problems)
    sc = schedule_cases()

    prob_json = {
        "rosenbrock": {"params": [spec(p) for p in problems["rosenbrock"]["params"]]},
        "mlp": {"params": [spec(p) for p in problems["mlp"]["params"]], "x": spec(problems["mlp"]["x"]),
                "target": spec(problems["mlp"]["target"])},
    }

    def dump(x):
        return json.dumps(x, separators=(",", ":"), allow_nan=False)

    header = dump({"format": 1, "generator": "tools/gen_reference_optim.py", "torch_version": torch.__version__})
    text = header[:-1] + ',\n"problems":' + dump(prob_json)
    for key, cases in (("optimizers", opt), ("lbfgs", lb), ("schedules", sc)):
        text += ',\n"' + key + '":[\n' + ",\n".join(dump(c) for c in cases) + "\n]"
    text += "}\n"
    with open(OUT_PATH, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {OUT_PATH}: {len(opt)} optimizer cases, {len(lb)} L-BFGS cases, {len(sc)} schedule cases, "
          f"{len(text)} bytes")


if __name__ == "__main__":
    main()
