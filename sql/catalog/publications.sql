-- Logical replication publications and the tables they publish.
SELECT p.pubname AS name, p.puballtables AS all_tables,
       array_remove(ARRAY[CASE WHEN p.pubinsert THEN 'insert' END, CASE WHEN p.pubupdate THEN 'update' END,
                          CASE WHEN p.pubdelete THEN 'delete' END, CASE WHEN p.pubtruncate THEN 'truncate' END], NULL) AS operations,
       ARRAY(SELECT pt.schemaname || '.' || pt.tablename FROM pg_publication_tables pt
              WHERE pt.pubname = p.pubname ORDER BY 1) AS tables
  FROM pg_publication p
 ORDER BY p.pubname;
