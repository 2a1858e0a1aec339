// oneDNN's C API (Debian libdnnl-dev 2.6). Debian ships no pkg-config file, so the module map links `dnnl`.
#include <oneapi/dnnl/dnnl.h>
