// oneDNN's C API (Debian libdnnl-dev 2.6). Debian ships no pkg-config file, so the module map links `dnnl`.
#include <oneapi/dnnl/dnnl.h>

// Debian's oneDNN runs on GNU OpenMP. SonoSeg's own loops run on the same thread pool (through libgomp's
// entry point), so the two never compete for the two cores while OpenMP workers spin between primitives.
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned int flags);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_get_max_threads(void);
void omp_set_num_threads(int n);
