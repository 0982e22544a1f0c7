//! Scheduling policy: the UI gives way to training.
//!
//! On a machine whose cores are all training, each time the UI thread woke (a progress event,
//! a frame) Linux let it preempt a training worker at once, and the other worker then waited
//! for the preempted one at the next join. `SCHED_BATCH` keeps the thread's fair share (nice
//! 0, so other programs cannot starve the UI) but makes it wait for the running worker's time
//! slice to end (a few ms) instead of preempting it. New threads inherit the policy, so the
//! training workers set theirs back to `SCHED_OTHER`.

/// Marks the calling thread `SCHED_BATCH`: it no longer preempts training when it wakes.
pub fn yield_to_training() -> std::io::Result<()> {
    set_policy(Policy::Batch)
}

/// Marks the calling thread `SCHED_OTHER`, the default policy (for training workers, which
/// may be spawned from a `SCHED_BATCH` thread).
pub fn default_policy() -> std::io::Result<()> {
    set_policy(Policy::Other)
}

enum Policy {
    Batch,
    Other,
}

#[cfg(target_os = "linux")]
fn set_policy(policy: Policy) -> std::io::Result<()> {
    let policy = match policy {
        Policy::Batch => libc::SCHED_BATCH,
        Policy::Other => libc::SCHED_OTHER,
    };
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: plain syscall wrapper; pid 0 is the calling thread, `param` outlives the call.
    if unsafe { libc::sched_setscheduler(0, policy, &param) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Elsewhere the hint does not exist; the UI simply runs at the default policy.
#[cfg(not(target_os = "linux"))]
fn set_policy(_policy: Policy) -> std::io::Result<()> {
    Ok(())
}

/// The calling thread's policy (`libc::SCHED_*`), for tests.
#[cfg(target_os = "linux")]
pub fn current_policy() -> i32 {
    // SAFETY: plain syscall wrapper; pid 0 is the calling thread.
    unsafe { libc::sched_getscheduler(0) }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn policies_switch_both_ways_and_are_inherited() {
        let (batch, child, back) = std::thread::spawn(|| {
            yield_to_training().unwrap();
            let batch = current_policy();
            let child = std::thread::spawn(current_policy).join().unwrap();
            default_policy().unwrap();
            (batch, child, current_policy())
        })
        .join()
        .unwrap();
        assert_eq!(batch, libc::SCHED_BATCH);
        assert_eq!(child, libc::SCHED_BATCH, "new threads inherit the policy");
        assert_eq!(back, libc::SCHED_OTHER);
    }
}
