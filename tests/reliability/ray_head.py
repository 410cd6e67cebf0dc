"""A small local Ray cluster for the tests: 2 CPUs, no dashboard, 100 MiB object store.
Prints the GCS address, holds the cluster until its stdin closes, then shuts it down."""

import logging
import sys

import ray

ray.init(
    address="local",
    num_cpus=2,
    include_dashboard=False,
    object_store_memory=100 * 2**20,
    logging_level=logging.WARNING,
    log_to_driver=False,
)
print(ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.read()
ray.shutdown()
