// synthscene's amodal pass: 1 wherever the object alone covers a pixel.
#version 330 core
layout(location = 0) out float out_mask;
void main() {
    out_mask = 1.0;
}
