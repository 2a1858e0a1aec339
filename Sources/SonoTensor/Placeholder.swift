// SonoTensor
