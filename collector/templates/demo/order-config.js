// DataCue's 2021 configuration object; the tracker reads it and sends the matching order event.
window.datacueConfig = {
  api_key: '{{ key }}',
  user_id: null,
  page_type: 'order confirmation',
  order_id: 'o1',
  order_details: {
    order_status: 'completed',
    cart: [{product_id: 'p1', variant_id: 'v1', unit_price: 24, quantity: 1, currency: 'USD'}]
  }
};
