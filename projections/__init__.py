"""The read side: a batched, exactly-once projector on asyncpg and the read models it maintains."""
