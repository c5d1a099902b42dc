"""Work that outlasts a request: a job queue (huey), its workers, and the files they make."""
