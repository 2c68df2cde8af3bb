from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.db import connection

from vigie.accounts.models import User
from vigie.accounts.sessions import NOT_READ, prefetched_user
from vigie.firms.models import Firm, Membership
from vigie.lib.rows import RowLoader

USER_ROW = RowLoader.all_fields(User)
MEMBERSHIP_ROW = RowLoader.all_fields(Membership)
FIRM_ROW = RowLoader.all_fields(Firm)
USER_TABLE = User._meta.db_table


def user_with_firm_sql() -> tuple[str, str]:
    """The columns of a user `u` with its membership and firm, and the joins that follow
    the user's table in a FROM (both NULL for a user without a firm)."""
    return (
        f"{USER_ROW.columns('u')}, {MEMBERSHIP_ROW.columns('m')}, {FIRM_ROW.columns('f')}",
        f"LEFT JOIN {Membership._meta.db_table} m ON m.user_id = u.id "
        f"LEFT JOIN {Firm._meta.db_table} f ON f.id = m.firm_id",
    )


def build_user_with_firm(values) -> User | None:
    """The user of `user_with_firm_sql`'s columns, its membership and firm cached on the
    instances as `select_related("membership__firm")` would (a user without a firm has
    no membership: `user.membership` raises as usual)."""
    if values[0] is None:
        return None
    user = USER_ROW.build(values[: len(USER_ROW)])
    rest = values[len(USER_ROW) :]
    membership = None
    if rest[0] is not None:
        membership = MEMBERSHIP_ROW.build(rest[: len(MEMBERSHIP_ROW)])
        Membership.firm.field.set_cached_value(
            membership, FIRM_ROW.build(rest[len(MEMBERSHIP_ROW) :])
        )
        Membership.user.field.set_cached_value(membership, user)
    User.membership.related.set_cached_value(user, membership)
    return user


def load_user_with_firm(user_id) -> User | None:
    """The user, its membership and its firm in one statement."""
    columns, joins = user_with_firm_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {USER_TABLE} u {joins} WHERE u.id = %s", [user_id])
        values = cursor.fetchone()
    return None if values is None else build_user_with_firm(values)


class AuthenticationBackend(AllauthBackend):
    """allauth's backend, loading the user with its firm in the same statement.

    Every request needs `request.firm`; joining it here saves a query per page, and
    writing the statement by hand saves building it through the ORM each time.
    """

    def get_user(self, user_id):
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None
        # Read with the session when this process knew whose it was (vigie.accounts.sessions).
        user = prefetched_user(user_id)
        if user is NOT_READ:
            user = load_user_with_firm(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
