"""Scale-out: hubs partitioned across several server processes over NATS JetStream (docs/deployment.md)."""
