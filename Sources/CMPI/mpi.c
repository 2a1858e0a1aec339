// Open MPI through dlopen: the handles MPI_COMM_WORLD, MPI_FLOAT, MPI_DOUBLE and MPI_SUM are, in Open MPI's
// mpi.h, the addresses of the global objects ompi_mpi_comm_world, ompi_mpi_float, ompi_mpi_double and
// ompi_mpi_op_sum, and MPI_IN_PLACE is (void *)1; dlsym gives the same addresses. This is Open MPI's ABI
// (libmpi.so.40, Open MPI 3.x-5.x), not MPICH's, whose handles are integers.
#define _GNU_SOURCE
#include "CMPI.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef void *handle;
static int (*p_init)(int *, char ***);
static int (*p_comm_rank)(handle, int *);
static int (*p_comm_size)(handle, int *);
static int (*p_allreduce)(const void *, void *, int, handle, handle, handle);
static int (*p_bcast)(void *, int, handle, int, handle);
static int (*p_barrier)(handle);
static int (*p_finalize)(void);
static int (*p_abort)(handle, int);
static handle comm_world, type_float, type_double, op_sum;
#define IN_PLACE ((void *)1)
// Largest element count per call (MPI counts are int).
#define CHUNK (1L << 30)

static int my_rank = -1;
static const char *volatile current = NULL;   // the collective running now, or NULL
static _Atomic double started = 0;             // when it started (monotonic seconds)
static _Atomic double timeout = 0;
static double spent = 0;
static pthread_t watchdog_thread;
static int watchdog_running = 0;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int sono_mpi_load(char *error, size_t capacity) {
    const char *names[] = {getenv("SONOSEG_LIBMPI"), "libmpi.so.40", "libmpi.so"};
    void *lib = NULL;
    const char *why = "no name to try";
    for (int i = 0; i < 3 && !lib; i++) {
        if (!names[i] || !*names[i]) continue;
        // RTLD_GLOBAL: Open MPI's plugins (mca_*.so) resolve their symbols against libmpi's.
        lib = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL);
        if (!lib) why = dlerror();
    }
    if (!lib) {
        snprintf(error, capacity, "cannot load Open MPI's libmpi.so.40 (%s); install openmpi-bin (Debian) or set SONOSEG_LIBMPI", why);
        return -1;
    }
#define SYM(var, name) do { *(void **)&var = dlsym(lib, name); if (!var) { \
        snprintf(error, capacity, "libmpi has no symbol %s: not Open MPI? (SonoSeg speaks Open MPI's ABI)", name); return -1; } } while (0)
    SYM(p_init, "MPI_Init");
    SYM(p_comm_rank, "MPI_Comm_rank");
    SYM(p_comm_size, "MPI_Comm_size");
    SYM(p_allreduce, "MPI_Allreduce");
    SYM(p_bcast, "MPI_Bcast");
    SYM(p_barrier, "MPI_Barrier");
    SYM(p_finalize, "MPI_Finalize");
    SYM(p_abort, "MPI_Abort");
    SYM(comm_world, "ompi_mpi_comm_world");
    SYM(type_float, "ompi_mpi_float");
    SYM(type_double, "ompi_mpi_double");
    SYM(op_sum, "ompi_mpi_op_sum");
#undef SYM
    return 0;
}

static void *watchdog(void *unused) {
    (void)unused;
    for (;;) {
        sleep(1);
        const char *what = current;
        double limit = atomic_load(&timeout), since = atomic_load(&started);
        if (what && limit > 0 && now() - since > limit) {
            fprintf(stderr, "sonoseg: rank %d: %s has not returned after %.0f s: another rank is gone or stuck; "
                    "ending rank %d (train --mpi-timeout sets the limit)\n", my_rank, what, now() - since, my_rank);
            fflush(stderr);
            _exit(70);
        }
    }
    return NULL;
}

int sono_mpi_init(int *rank, int *size) {
    int argc = 0;
    char **argv = NULL;
    int rc = p_init(&argc, &argv);
    if (rc) return rc;
    if ((rc = p_comm_rank(comm_world, rank))) return rc;
    if ((rc = p_comm_size(comm_world, size))) return rc;
    my_rank = *rank;
    if (!watchdog_running && pthread_create(&watchdog_thread, NULL, watchdog, NULL) == 0) {
        pthread_detach(watchdog_thread);
        watchdog_running = 1;
    }
    return 0;
}

void sono_mpi_set_timeout(double seconds) { atomic_store(&timeout, seconds); }

static void enter(const char *what) { atomic_store(&started, now()); current = what; }
static void leave(void) { current = NULL; spent += now() - atomic_load(&started); }

double sono_mpi_take_seconds(void) { double s = spent; spent = 0; return s; }

int sono_mpi_allreduce_float(float *values, long count) {
    int rc = 0;
    enter("MPI_Allreduce");
    for (long at = 0; at < count && !rc; at += CHUNK) {
        long n = count - at < CHUNK ? count - at : CHUNK;
        rc = p_allreduce(IN_PLACE, values + at, (int)n, type_float, op_sum, comm_world);
    }
    leave();
    return rc;
}

int sono_mpi_allreduce_double(double *values, long count) {
    int rc = 0;
    enter("MPI_Allreduce");
    for (long at = 0; at < count && !rc; at += CHUNK) {
        long n = count - at < CHUNK ? count - at : CHUNK;
        rc = p_allreduce(IN_PLACE, values + at, (int)n, type_double, op_sum, comm_world);
    }
    leave();
    return rc;
}

int sono_mpi_bcast_float(float *values, long count, int root) {
    int rc = 0;
    enter("MPI_Bcast");
    for (long at = 0; at < count && !rc; at += CHUNK) {
        long n = count - at < CHUNK ? count - at : CHUNK;
        rc = p_bcast(values + at, (int)n, type_float, root, comm_world);
    }
    leave();
    return rc;
}

int sono_mpi_barrier(void) {
    enter("MPI_Barrier");
    int rc = p_barrier(comm_world);
    leave();
    return rc;
}

// Not watched: ranks wait here while rank 0 scores the test part alone.
int sono_mpi_finalize(void) { return p_finalize(); }

void sono_mpi_abort(int code) { p_abort(comm_world, code); }
