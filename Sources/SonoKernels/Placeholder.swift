// SonoKernels
