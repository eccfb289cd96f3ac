-- PostgreSQL init script (runs once, on an empty data directory): the default source table with
-- 100,000 synthetic rows, so `pg-fanout run` has something to move right after the deploy. The
-- names include what the spec splits (one word, several, extra and no-break spaces, non-ASCII) and
-- what it rejects (NULL, empty, whitespace only). The ledger (schema etl) and output_table are
-- created by the coordinator on its first run.
CREATE TABLE public.input_table (id bigint PRIMARY KEY, name text, age int);

INSERT INTO public.input_table (id, name, age)
SELECT g,
       CASE
         WHEN g % 1000 = 0 THEN NULL
         WHEN g % 1000 = 1 THEN '   '
         WHEN g % 1000 = 2 THEN ''
         WHEN g % 50 = 0 THEN (ARRAY['Zoë', 'José', 'Björn', 'Siobhán', 'Nguyễn', 'Ólafur'])[1 + g % 6]
         WHEN g % 37 = 0 THEN '  Mary   van der Berg ' || g || '  '
         WHEN g % 41 = 0 THEN E'Ana\u00a0de la Cruz ' || g
         ELSE (ARRAY['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer'])[1 + g % 6] || ' '
              || (ARRAY['Smith', 'Johnson', 'O''Neill', 'Müller', 'Garcia', 'Brown'])[1 + (g / 7) % 6]
       END,
       CASE WHEN g % 23 = 0 THEN NULL ELSE 18 + (g * 7919) % 70 END
  FROM generate_series(1, 100000) AS g;

ANALYZE public.input_table;
