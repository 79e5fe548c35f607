"""cavra-gql: a GraphQL API over CAVRA's rollback drill notification evidence."""

__version__ = "0.1.0"
