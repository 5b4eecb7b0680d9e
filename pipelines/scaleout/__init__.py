"""Scale-out: the same dbt project on Apache Spark over the open layout, and the parity check (make parity)."""
