"""Model instances from the columns of a hand-written SQL statement.

The hottest reads (the signed-in user with its firm on every request, the portfolio's
rows) are written as SQL: building an ORM query costs more than the database takes to
answer it. `RowLoader` turns the selected columns back into model instances with the
converters the ORM itself would apply (SQLite's booleans and datetimes)."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connection, connections


class RowLoader:
    """`columns(alias)` for a SELECT, then `build(values)` for each row's slice."""

    def __init__(self, model, field_names):
        self.model = model
        self.fields = [model._meta.get_field(name) for name in field_names]
        self.attnames = [f.attname for f in self.fields]
        self._converters: dict[str, list] = {}
        self._columns: dict[tuple[str, str], str] = {}

    @classmethod
    def all_fields(cls, model) -> RowLoader:
        """A loader of every concrete field: `build` gives a whole instance."""
        return cls(model, [f.name for f in model._meta.concrete_fields])

    def __len__(self) -> int:
        return len(self.fields)

    def columns(self, alias: str) -> str:
        """The quoted columns for a SELECT, as `alias.column, …` (built once)."""
        key = (connection.vendor, alias)
        if key not in self._columns:
            quote = connection.ops.quote_name
            self._columns[key] = ", ".join(f"{alias}.{quote(f.column)}" for f in self.fields)
        return self._columns[key]

    def _converters_for_connection(self) -> list:
        vendor = connection.vendor
        if vendor not in self._converters:
            found = []
            for index, field in enumerate(self.fields):
                col = field.get_col(self.model._meta.db_table)
                functions = connection.ops.get_db_converters(col) + col.get_db_converters(
                    connection
                )
                if functions:
                    found.append((index, col, functions))
            self._converters[vendor] = found
        return self._converters[vendor]

    def converter(self):
        """`convert` for many rows of one statement: the connection and its converters
        looked up once rather than on every row (a 100-row page)."""
        found = self._converters_for_connection()
        conn = connections[DEFAULT_DB_ALIAS]  # the connection itself, not its proxy

        def convert(values) -> list:
            values = list(values)
            for index, col, functions in found:
                value = values[index]
                for function in functions:
                    value = function(value, col, conn)
                values[index] = value
            return values

        return convert

    def convert(self, values) -> list:
        """The row's values as the ORM would give them to the model."""
        return self.converter()(values)

    def build(self, values):
        return self.model.from_db(connection.alias, self.attnames, self.convert(values))
