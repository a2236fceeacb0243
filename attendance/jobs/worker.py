"""The worker's entry point: `huey_consumer attendance.jobs.worker.huey -w 2` runs the app's jobs.

Any number of workers may run, on any machine, against the same JOBS_URL (Redis) and DATABASE_URL.
"""

from attendance import create_app

app = create_app()
huey = app.extensions["huey"]
