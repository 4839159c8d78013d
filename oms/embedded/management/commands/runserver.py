"""``runserver`` as in production: static files through WhiteNoise, the periodic jobs running.

Static files are left to WhiteNoise (``--nostatic`` by default), which serves them with DEBUG on
or off, as under gunicorn; no ``--insecure`` is needed. In the embedded mode (no broker) the
server also runs the beat schedule in a thread (``oms.embedded.scheduler``), started once it
listens: under the autoreloader that is in the process it restarts on a code change, never in
the one watching the files. ``--no-periodic-jobs`` leaves them off.
"""

from django.contrib.staticfiles.management.commands.runserver import Command as StaticRunserver

from oms.embedded.scheduler import periodic_jobs_start


class Command(StaticRunserver):
    help = (
        "Starts the development web server: static files through WhiteNoise and, without a "
        "broker, the periodic jobs (SLA checks, sweepers, step retries) in this process."
    )
    periodic_jobs = True

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(use_static_handler=False)
        parser.add_argument(
            "--no-periodic-jobs",
            action="store_false",
            dest="periodic_jobs",
            help="Do not run the beat schedule in this process (embedded mode only).",
        )

    def handle(self, *args, **options):
        self.periodic_jobs = options["periodic_jobs"]
        super().handle(*args, **options)

    def on_bind(self, server_port):
        super().on_bind(server_port)
        if self.periodic_jobs and periodic_jobs_start():
            self.stdout.write(
                "Periodic jobs (SLA checks, sweepers, step retries) run in this process."
            )
