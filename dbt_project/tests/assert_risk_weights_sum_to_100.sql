-- The composite risk score's weights (seed risk_weights) sum to 100 for every enterprise type.
select ent_type, sum(weight) as total
from {{ ref('risk_weights') }}
group by ent_type
having sum(weight) <> 100
