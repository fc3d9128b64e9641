#pragma once
// The umbrella header: everything a program needs to build, train and check networks.

#include "descent/autograd/grad_mode.h"
#include "descent/autograd/gradcheck.h"
#include "descent/autograd/node.h"
#include "descent/core/dtype.h"
#include "descent/core/error.h"
#include "descent/core/generator.h"
#include "descent/core/shape.h"
#include "descent/core/storage.h"
#include "descent/core/tensor.h"
#include "descent/core/threads.h"
#include "descent/ops/activation.h"
#include "descent/ops/elementwise.h"
#include "descent/ops/linalg.h"
#include "descent/ops/reduce.h"
#include "descent/ops/shape.h"
#include "descent/version.h"
