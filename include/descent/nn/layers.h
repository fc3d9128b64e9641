#pragma once
// Every layer of descent::nn (the modules of torch.nn that descent has).

#include "descent/nn/activation.h"
#include "descent/nn/conv.h"
#include "descent/nn/dropout.h"
#include "descent/nn/linear.h"
#include "descent/nn/module.h"
#include "descent/nn/normalization.h"
#include "descent/nn/pooling.h"
#include "descent/nn/sequential.h"
