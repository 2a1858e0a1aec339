// SonoNN
