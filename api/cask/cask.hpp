// cask/cask.hpp: the whole public API. Dask's futures for C++, on CAF.
#pragma once

#include "cask/as_completed.hpp"
#include "cask/client.hpp"
#include "cask/delayed.hpp"
#include "cask/errors.hpp"
#include "cask/future.hpp"
#include "cask/nested.hpp"
#include "cask/options.hpp"
#include "cask/stats.hpp"
#include "cask/status.hpp"
#include "cask/this_task.hpp"
#include "cask/wait.hpp"
