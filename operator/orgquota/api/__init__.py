"""The billing API (`orgquota api`): reads from watches, writes only billing annotations."""
