//! The Lambda function's async runtime, sized to the CPU its memory pays for.
//!
//! Lambda may show a function two vCPUs while its memory buys it a third of one (512 MB), and it
//! bills the CPU time either way. A runtime of several worker threads there hands every wake-up of
//! a task (a DynamoDB response, a batch from the reader) from one thread to another, which costs
//! CPU time and buys nothing. So below two vCPUs' worth of memory all tasks run on the thread that
//! runs the handler; the reader still runs on a blocking thread of its own.
//!
//! Measured with `a4b-dev bench`'s handler run (the 200 MB benchmark file through S3, the reader
//! and 655 BatchWriteItem calls against moto; the function pinned to a core of its own, moto and
//! the bench on the other, three alternating runs each): the function's CPU time in the invocation
//! went from 1.05 to 1.15 s with tokio's default of a worker per visible core (two) to 0.80 to
//! 0.97 s with one thread.

use tokio::runtime::{Builder, Runtime};

/// A runtime for `cores` usable cores ([`reader::usable_cores`](crate::reader::usable_cores)): all
/// tasks on the calling thread for one (or none), else a worker thread per core.
pub fn for_cores(cores: usize) -> std::io::Result<Runtime> {
    if cores <= 1 {
        Builder::new_current_thread().enable_all().build()
    } else {
        Builder::new_multi_thread()
            .worker_threads(cores)
            .enable_all()
            .build()
    }
}

#[cfg(test)]
mod tests {
    use tokio::runtime::RuntimeFlavor;

    use super::*;

    #[test]
    fn one_core_runs_every_task_on_the_calling_thread() {
        for cores in [0, 1] {
            let runtime = for_cores(cores).unwrap();
            assert_eq!(
                runtime.handle().runtime_flavor(),
                RuntimeFlavor::CurrentThread
            );
            let caller = std::thread::current().id();
            // A spawned task runs on the thread that blocks on the runtime; blocking work (the
            // reader's) still gets a thread of its own.
            let (task_thread, blocking_thread) = runtime.block_on(async {
                let task = tokio::spawn(async { std::thread::current().id() });
                let blocking = tokio::task::spawn_blocking(|| std::thread::current().id());
                (task.await.unwrap(), blocking.await.unwrap())
            });
            assert_eq!(task_thread, caller);
            assert_ne!(blocking_thread, caller);
        }
    }

    #[test]
    fn more_cores_get_a_worker_thread_each() {
        let runtime = for_cores(3).unwrap();
        assert_eq!(
            runtime.handle().runtime_flavor(),
            RuntimeFlavor::MultiThread
        );
        assert_eq!(runtime.metrics().num_workers(), 3);
    }
}
