#ifndef CMPI_H
#define CMPI_H
#include <stddef.h>
/// Open MPI reached at run time: libmpi.so.40 is dlopen()ed by sono_mpi_load, so building SonoSeg needs no
/// mpi.h and `make demo` no MPI package. Every call below runs on MPI_COMM_WORLD from one thread.

/// Loads libmpi (SONOSEG_LIBMPI, else libmpi.so.40, else libmpi.so) and its symbols. 0 on success; otherwise
/// writes why into `error` (`capacity` bytes) and returns -1.
int sono_mpi_load(char *error, size_t capacity);
/// MPI_Init, then this process's rank and the world's size. 0 on success.
int sono_mpi_init(int *rank, int *size);
/// In-place MPI_Allreduce with MPI_SUM over `count` floats / doubles. 0 on success (MPI_SUCCESS).
int sono_mpi_allreduce_float(float *values, long count);
int sono_mpi_allreduce_double(double *values, long count);
/// MPI_Bcast of `count` floats from rank `root`.
int sono_mpi_bcast_float(float *values, long count, int root);
int sono_mpi_barrier(void);
int sono_mpi_finalize(void);
/// MPI_Abort(MPI_COMM_WORLD, code): ends every rank of the job.
void sono_mpi_abort(int code);
/// The watchdog: a collective that has not returned after `seconds` (0 turns it off) prints a message naming
/// this rank and the collective and ends the process with status 70, which makes mpirun end the job.
void sono_mpi_set_timeout(double seconds);
/// Seconds spent inside collectives since the last call (then reset to 0).
double sono_mpi_take_seconds(void);
#endif
