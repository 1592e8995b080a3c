"""`manage.py rotate_secrets`: re-encrypt every stored credential under the newest key.

Key rotation, step by step:

1. `manage.py rotate_secrets --generate-key` prints a new Fernet key.
2. Put it FIRST in HUB_ENCRYPTION_KEYS, keeping the old keys after it (`NEW,OLD`), and restart
   every process (web and qcluster): they now write with NEW and still read OLD.
3. `manage.py rotate_secrets` re-encrypts every stored secret under NEW, in one transaction.
4. `HUB_ENCRYPTION_KEYS=NEW manage.py rotate_secrets --verify` confirms that nothing needs OLD any
   more; then drop OLD from the environment everywhere.

Every `EncryptedTextField` of every installed model is found through the app registry, so a
model added later is rotated without touching this command. The command works on the raw column
values (the ciphertext is read through a text cast, which bypasses the field's decrypting
converter, and written back as a plain text value), so a secret is decrypted only inside
`crypto.rotate` / `crypto.decrypt`, one at a time, and never kept. Output names models, primary
keys and fields, never a value.
"""

from collections.abc import Iterator

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.db.models.functions import Cast

from tenants import crypto
from tenants.fields import TOKEN_PREFIX, EncryptedTextField

RAW = "_rotate_secrets_raw"


def encrypted_fields() -> Iterator[tuple[type[models.Model], EncryptedTextField]]:
    """(model, field) for every EncryptedTextField stored in a table of its own model.

    Proxy models share their concrete model's table and inherited multi-table fields live in the
    parent's table, so each column is visited exactly once.
    """
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        for field in model._meta.local_concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


def raw_batches(model, field, batch_size: int, lock: bool = False) -> Iterator[list[tuple[object, str | None]]]:
    """Batches of (pk, raw column value) in primary-key order, without decrypting anything.

    Keyset pagination (pk > last seen) keeps each query cheap however large the table. With
    `lock`, the rows of a batch are locked until the surrounding transaction ends (PostgreSQL;
    SQLite's IMMEDIATE transaction already holds the database's write lock).
    """
    queryset = model._base_manager.annotate(**{RAW: Cast(field.name, output_field=models.TextField())}).order_by("pk")
    if lock:
        queryset = queryset.select_for_update()
    last_pk = None
    while True:
        page = queryset if last_pk is None else queryset.filter(pk__gt=last_pk)
        rows = list(page.values_list("pk", RAW)[:batch_size])
        if not rows:
            return
        yield rows
        last_pk = rows[-1][0]


def write_raw(model, field, pk, raw: str) -> None:
    """Store `raw` in the column as is: a plain text Value skips the field's encrypting get_prep_value."""
    model._base_manager.filter(pk=pk).update(**{field.name: models.Value(raw, output_field=models.TextField())})


def label(model, field, pk=None) -> str:
    where = f"{model._meta.label} {field.name}"
    return where if pk is None else f"{model._meta.label} pk={pk} field {field.name}"


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored credential under the newest HUB_ENCRYPTION_KEYS key. "
        "--verify only checks that every secret decrypts and counts those not yet under the newest key; "
        "--generate-key prints a new key."
    )

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--verify", action="store_true", help="Check only; exit 1 if any secret cannot be decrypted.")
        mode.add_argument("--generate-key", action="store_true", help="Print a new Fernet key and exit.")
        parser.add_argument("--batch-size", type=int, default=500, help="Rows read and written per query batch.")

    def handle(self, *args, verify=False, generate_key=False, batch_size=500, **options):
        if generate_key:
            self.stdout.write(crypto.generate_key())
            return
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        keys = crypto.configured_keys()
        if not keys:
            raise CommandError("HUB_ENCRYPTION_KEYS is not set: there is no key to encrypt or decrypt with.")
        # Checking the HMAC with the newest key alone tells whether a token is already under it,
        # without decrypting.
        self.newest = Fernet(keys[0].encode())
        if verify:
            self.verify(batch_size)
        else:
            self.rotate(batch_size)

    def is_current(self, token: str) -> bool:
        try:
            self.newest.extract_timestamp(token.encode("ascii"))
        except (InvalidToken, ValueError):
            return False
        return True

    def rotate(self, batch_size: int) -> None:
        failures = []
        total = {"re-encrypted": 0, "encrypted (was plaintext)": 0, "already current": 0}
        with transaction.atomic():
            for model, field in encrypted_fields():
                counts = dict.fromkeys(total, 0)
                for rows in raw_batches(model, field, batch_size, lock=True):
                    for pk, raw in rows:
                        if not raw:
                            continue  # nothing stored
                        if not raw.startswith(TOKEN_PREFIX):
                            # Written around the field (raw SQL, an old import): encrypt it now.
                            write_raw(model, field, pk, TOKEN_PREFIX + crypto.encrypt(raw))
                            counts["encrypted (was plaintext)"] += 1
                            continue
                        token = raw[len(TOKEN_PREFIX) :]
                        if self.is_current(token):
                            counts["already current"] += 1
                            continue
                        try:
                            rotated = crypto.rotate(token)
                        except crypto.DecryptionError:
                            failures.append(label(model, field, pk))
                            continue
                        write_raw(model, field, pk, TOKEN_PREFIX + rotated)
                        counts["re-encrypted"] += 1
                for key, value in counts.items():
                    total[key] += value
                self.stdout.write(f"{label(model, field)}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
            if failures:
                # Raising inside the atomic block rolls every batch back: all rotated or none.
                raise CommandError(self.undecryptable(failures) + "\nNothing was changed.")
        self.stdout.write(self.style.SUCCESS("Done: " + ", ".join(f"{v} {k}" for k, v in total.items()) + "."))

    def verify(self, batch_size: int) -> None:
        failures, plaintext = [], []
        checked = current = older = 0
        for model, field in encrypted_fields():
            for rows in raw_batches(model, field, batch_size):
                for pk, raw in rows:
                    if not raw:
                        continue
                    checked += 1
                    if not raw.startswith(TOKEN_PREFIX):
                        plaintext.append(label(model, field, pk))
                        continue
                    token = raw[len(TOKEN_PREFIX) :]
                    try:
                        crypto.decrypt(token)  # the plaintext is dropped at once
                    except crypto.DecryptionError:
                        failures.append(label(model, field, pk))
                        continue
                    if self.is_current(token):
                        current += 1
                    else:
                        older += 1
        self.stdout.write(
            f"{checked} stored secrets checked: {current} under the newest key, "
            f"{older} under an older key (run `manage.py rotate_secrets`)."
        )
        problems = []
        if failures:
            problems.append(self.undecryptable(failures))
        if plaintext:
            problems.append(
                f"{len(plaintext)} secrets are stored unencrypted (run `manage.py rotate_secrets` to encrypt them):\n  "
                + "\n  ".join(plaintext)
            )
        if problems:
            raise CommandError("\n".join(problems))
        self.stdout.write(self.style.SUCCESS("Every stored secret decrypts with the configured keys."))

    @staticmethod
    def undecryptable(failures: list[str]) -> str:
        return (
            f"{len(failures)} stored secrets cannot be decrypted with the configured HUB_ENCRYPTION_KEYS "
            "(was the key they were written with removed?):\n  " + "\n  ".join(failures)
        )
