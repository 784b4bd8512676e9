"""Log sources on their way into the job: reading files (``inputs``, ``.evtx`` included),
checking they belong to their source (``input_check``), record ids and duplicates
(``record_ids``), times too far ahead (``timeguard``), damaged input (``damage``), staging
for the file job (``staging``) and the raw-text sources' SQL time (``raw``).
"""
