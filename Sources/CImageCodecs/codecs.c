#include "CImageCodecs.h"
int sono_codecs_version(void) { return 1; }
