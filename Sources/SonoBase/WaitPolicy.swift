import Foundation

/// OpenMP's threads (oneDNN's and SonoSeg's one pool) by default spin between parallel regions, which on a
/// machine busy with other work takes cores from that work and from each other: 30 BUSI images with two
/// CPU-bound processes beside them took 16.3 s with the default policy and 10.3 s with OMP_WAIT_POLICY=passive,
/// and 5.2 s / 5.3 s on the idle machine (2-core AMD EPYC, 2026-12-04; docs/cpus.md). libgomp reads the policy
/// once, in its constructor, before `main` runs, so it cannot be set from inside: unless the user chose a policy,
/// the process starts itself again with the passive one.
public enum WaitPolicy {
    public static let variable = "OMP_WAIT_POLICY"

    /// Re-executes this binary with OMP_WAIT_POLICY=passive when the variable is unset; returns when it is set
    /// (by the user, or by the first start) or when re-executing is impossible.
    public static func ensureChosen() {
        guard ProcessInfo.processInfo.environment[variable] == nil else { return }
        // Started through the dynamic loader (ld-linux … sonoseg), /proc/self/exe is the loader: carry on as is.
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().lastPathComponent
        guard !exe.hasPrefix("ld-") else { return }
        setenv(variable, "passive", 1)
        let args = CommandLine.unsafeArgv
        execv("/proc/self/exe", args)
        // No /proc (another OS): carry on with the default policy; nothing else depends on it.
    }
}
