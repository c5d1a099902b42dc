"""Messages out: e-mail and SMS from an outbox, sent by the job workers."""
