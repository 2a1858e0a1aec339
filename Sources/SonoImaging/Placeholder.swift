// SonoImaging
