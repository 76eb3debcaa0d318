from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from recognizer.storage import outbox
from recognizer.storage.cql import UNAVAILABLE


class Command(BaseCommand):
    help = ("Store the predictions waiting in the local outbox (OUTBOX_DIR) in Cassandra, oldest first. "
            "Running servers do this by themselves once Cassandra answers; this is for operators.")

    def add_arguments(self, parser):
        parser.add_argument("--retry-dead", action="store_true",
                            help="first put back the files set aside in OUTBOX_DIR/dead (after fixing their cause)")

    def handle(self, *args, retry_dead: bool, **options):
        if retry_dead:
            self.stdout.write(f"Put back {outbox.retry_dead()} files from dead/.")
        waiting = outbox.measure().items
        stored = 0
        with tqdm(total=waiting, unit="prediction", file=self.stderr, disable=None) as bar:
            while True:
                try:
                    batch = outbox.drain(limit=100)
                except UNAVAILABLE as error:
                    raise CommandError(f"Cassandra is not taking writes ({type(error).__name__}: {error}); "
                                       f"{stored} stored, {outbox.measure().items} still waiting.") from error
                stored += batch
                bar.update(batch)
                if not batch:
                    break
        depth = outbox.measure()
        self.stdout.write(self.style.SUCCESS(f"Stored {stored} predictions; {depth.items} still waiting, "
                                             f"{depth.dead} set aside in dead/."))
