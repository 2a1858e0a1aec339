#pragma once
// Keeps this target linked (see fuzz_main.c).
int sono_fuzz_main_linked(void);
