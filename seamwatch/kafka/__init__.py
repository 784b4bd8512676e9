"""Kafka: client configuration and properties, the Avro codec, the schema registry, the
topic tools (create, replay, tail) and the identity-mapping topic the resolvers read.
"""
