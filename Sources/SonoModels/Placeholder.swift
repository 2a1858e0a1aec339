// SonoModels
