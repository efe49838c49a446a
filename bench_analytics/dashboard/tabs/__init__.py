"""One module per tab: pure view functions of the dashboard state."""
