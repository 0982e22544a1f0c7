//! A real Slurm job array: `tests/slurm/run.sh` starts a single-node cluster, submits a
//! 4-task array of a tiny preset into one run folder, and checks that every unit is complete
//! exactly once and that the table equals a single-process run's.

mod common;

#[test]
fn a_slurm_job_array_fills_one_run_folder() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/slurm/run.sh");
    let out = std::process::Command::new(script)
        .arg(env!("CARGO_BIN_EXE_mnist-lab"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let text = common::succeeded(&out);
    assert!(text.contains("slurm test: passed"), "{text}");
    assert!(text.contains("6 finished, 6 trainings"), "{text}");
}
