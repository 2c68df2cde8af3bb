"""Django's database sessions, read by a hand-written statement that also brings the
signed-in user with its firm.

Every signed-in request reads its session, then its user: two round trips, and building
either query through the ORM cost more than the database took to answer it. A session
key belongs to one user for its whole life (signing in gives a new key, signing out
flushes it), so each process remembers which user a key it has already read belongs to
(`_USER_OF_KEY`, a hint only) and reads that user in the session's own statement. The
hint is trusted only once the signed session data, decoded, names the same user; else
the user is read as before (`vigie.accounts.backends`). Writes, expiry and the table
stay Django's own (`django.contrib.sessions.backends.db`)."""

from __future__ import annotations

from contextvars import ContextVar

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone

# session key → user id, as read from the session data by this process (a bounded hint).
_USER_OF_KEY: dict[str, int] = {}
_HINTS_KEPT = 20_000
# The session store of the request in progress (set when SessionMiddleware makes it).
_CURRENT: ContextVar[SessionStore | None] = ContextVar("vigie_session_store", default=None)
NOT_READ = object()


def prefetched_user(user_id: int):
    """The user of this request's session read with it, or `NOT_READ`: the user (or
    None if it no longer exists) when the session named `user_id` and the statement
    read that user."""
    store = _CURRENT.get()
    if store is None or store.prefetched_user_id != user_id:
        return NOT_READ
    return store.prefetched_user


class SessionStore(DatabaseSessionStore):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self.prefetched_user_id: int | None = None
        self.prefetched_user = None
        _CURRENT.set(self)

    def _get_session_from_db(self):
        """The session row (its data still signed), and the user the hint names."""
        from vigie.accounts.backends import USER_TABLE, build_user_with_firm, user_with_firm_sql

        self._hinted_user = NOT_READ
        key = self.session_key
        if not key:
            self._session_key = None
            return None
        model = self.model
        connection = connections[router.db_for_read(model)]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        hint = _USER_OF_KEY.get(key)
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if hint is None:
                cursor.execute(
                    f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",
                    [key, now],
                )
            else:
                columns, joins = user_with_firm_sql()
                cursor.execute(
                    f"SELECT s.session_data, {columns} FROM {table} s "
                    f"LEFT JOIN {USER_TABLE} u ON u.id = %s {joins} "
                    "WHERE s.session_key = %s AND s.expire_date > %s",
                    [hint, key, now],
                )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        if hint is not None:
            self._hinted_user = (hint, build_user_with_firm(row[1:]))
        return model(session_key=key, session_data=row[0])

    def load(self):
        s = self._get_session_from_db()
        data = self.decode(s.session_data) if s else {}
        try:
            user_id = int(data[SESSION_KEY])
        except (KeyError, TypeError, ValueError):
            return data
        hinted = self._hinted_user
        if hinted is not NOT_READ and hinted[0] == user_id:
            self.prefetched_user_id, self.prefetched_user = hinted
        if len(_USER_OF_KEY) >= _HINTS_KEPT:
            _USER_OF_KEY.clear()
        _USER_OF_KEY[self.session_key] = user_id
        return data
