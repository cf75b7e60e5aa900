"""arq background jobs. `jobs.worker.WorkerSettings` lists them all."""
