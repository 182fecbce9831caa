"""Staff console accounts (passwords hashed with werkzeug's scrypt)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from .. import records


def set_password(database_url: str, username: str, password: str) -> bool:
    """Create the account or replace its password; True when it was created."""
    engine = records.make_engine(database_url)
    with Session(engine) as db, db.begin():
        user = db.scalar(select(records.StaffUser).where(records.StaffUser.username == username))
        if user is None:
            db.add(
                records.StaffUser(
                    username=username,
                    password_hash=generate_password_hash(password),
                    created_at=records.now(),
                )
            )
            return True
        user.password_hash = generate_password_hash(password)
        return False
