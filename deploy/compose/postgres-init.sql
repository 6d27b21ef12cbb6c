-- Run once by the postgres image when its volume is new: the service's database is
-- POSTGRES_DB (nordhem); Rasa's tracker store gets its own database on the same server.
CREATE DATABASE rasa OWNER nordhem;
