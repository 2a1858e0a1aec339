// SonoPipeline
