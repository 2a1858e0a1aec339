#ifndef CCPUCHECK_H
#define CCPUCHECK_H
/// Referenced from `sonoseg`'s entry point so the linker keeps the check below; returns 1.
int sonoseg_cpu_check_linked(void);
#endif
