import CFuzzMain
import SonoPipeline
import SonoTools

/// libFuzzer's entry: every reader of untrusted bytes behind one target, chosen by what the bytes look like
/// (an image signature, a safetensors header, JSON). Built by `make libfuzzer` (coverage-guided, under
/// AddressSanitizer); `sonoseg fuzz` is the seeded mutation harness that needs no special build.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = sono_fuzz_main_linked()
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    Fuzzer.readAny(bytes)
    return 0
}
