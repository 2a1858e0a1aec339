#pragma once
int sono_codecs_version(void);
