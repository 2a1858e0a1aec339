// The entry point of sonoseg-libfuzzer when it is built without libFuzzer (`swift build`): each argument is a
// file replayed through LLVMFuzzerTestOneInput once, so crash files that libFuzzer saved can be rerun in a
// debugger with a plain build. Built with `--sanitize=fuzzer`, libFuzzer's own main takes the place of this
// weak one.
#include "CFuzzMain.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int sono_fuzz_main_linked(void) { return 1; }

// SwiftPM names an executable's entry `<module>_main` and aliases `main` to it at link time.
__attribute__((weak)) int sonoseg_libfuzzer_main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) { fprintf(stderr, "%s: cannot open\n", argv[i]); return 1; }
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *bytes = malloc(n > 0 ? (size_t)n : 1);
        size_t got = fread(bytes, 1, n > 0 ? (size_t)n : 0, f);
        fclose(f);
        LLVMFuzzerTestOneInput(bytes, got);
        free(bytes);
        printf("%s: ok\n", argv[i]);
    }
    return 0;
}
