"""The peewee schema, the connection and the repositories that return domain types."""
