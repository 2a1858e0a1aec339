// SonoData
