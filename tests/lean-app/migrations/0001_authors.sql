-- devdb:revision 0001
-- devdb:message  authors

-- devdb:up
-- Slow enough that concurrent start-ups without the lock would collide.
SELECT pg_sleep(0.5);
CREATE TABLE authors (id bigint PRIMARY KEY, name text NOT NULL);

-- devdb:down
DROP TABLE authors;
