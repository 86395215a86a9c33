-- The firm's job roles (tenant profile: vocabulary.roles): the Harvest role and task name, the role
-- code (the Salesforce ProductCode of the deal's rate card) and the NetSuite item it is invoiced as.
{{ tenant_rows(var('q2c_roles'), ['role_name', 'role_code', 'erp_item_code']) }}
