// The commands of rc-bench, one file each; bench/run.py drives them.
#pragma once
#include "common.h"

namespace rc::bench {

int run_converge(const Flags& flags);  // converge.cpp
int run_floor(const Flags& flags);     // floor.cpp
int run_populate(const Flags& flags);  // populate.cpp

}  // namespace rc::bench
